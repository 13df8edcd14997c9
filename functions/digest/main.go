// Command digest emails the comms team a scheduled digest of the stories
// since the last one, with a CSV export, each period exactly once.
package main

import (
	"frontlinevoices/shared/digest"
	"frontlinevoices/shared/lambdafn"
)

func main() { lambdafn.Start(digest.FromEnv) }
