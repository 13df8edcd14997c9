// Command submit accepts stories: POST /api/stories.
package main

import (
	"frontlinevoices/shared/lambdafn"
	"frontlinevoices/shared/submit"
)

func main() { lambdafn.Start(submit.FromEnv) }
