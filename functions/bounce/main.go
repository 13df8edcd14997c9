// Command bounce records the addresses SES reports as undeliverable.
package main

import (
	"frontlinevoices/shared/bounce"
	"frontlinevoices/shared/lambdafn"
)

func main() { lambdafn.Start(bounce.FromEnv) }
