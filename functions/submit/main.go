// Command submit accepts stories: POST /api/stories.
package main

import (
	"frontlinevoices/shared/submit"
	"frontlinevoices/shared/lambdafn"
)

func main() { lambdafn.Start(submit.FromEnv) }
