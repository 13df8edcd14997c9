// Command notify emails the comms team and the volunteer about each new story.
package main

import (
	"frontlinevoices/shared/notify"
	"frontlinevoices/shared/lambdafn"
)

func main() { lambdafn.Start(notify.FromEnv) }
