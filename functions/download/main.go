// Command download serves the comms team's links to exports and clips:
// GET /download?t=… checks the signed link and redirects to a short-lived
// presigned download.
package main

import (
	"frontlinevoices/shared/download"
	"frontlinevoices/shared/lambdafn"
)

func main() { lambdafn.Start(download.FromEnv) }
