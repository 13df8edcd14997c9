// Command withdraw serves the volunteer's personal page to withdraw consent or erase their story.
package main

import (
	"frontlinevoices/shared/lambdafn"
	"frontlinevoices/shared/withdraw"
)

func main() { lambdafn.Start(withdraw.FromEnv) }
