// Command form serves the story form, the thank-you page, the privacy
// notice, the MP and candidate list for a borough, and static assets.
package main

import (
	"frontlinevoices/shared/lambdafn"
	"frontlinevoices/shared/pages"
)

func main() { lambdafn.Start(pages.FromEnv) }
