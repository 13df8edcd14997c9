// Command ingest checks each new clip in the clips bucket (S3 ObjectCreated):
// size, container and duration, then records it under its story or rejects it.
package main

import (
	"frontlinevoices/shared/ingest"
	"frontlinevoices/shared/lambdafn"
)

func main() { lambdafn.Start(ingest.FromEnv) }
