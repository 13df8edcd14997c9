// Command notify emails the comms team and the volunteer about each new story.
package main

import (
	"frontlinevoices/shared/lambdafn"
	"frontlinevoices/shared/notify"
)

func main() { lambdafn.Start(notify.FromEnv) }
