// Command erase carries each erasure through to the end from the stories
// table's stream, and sends its emails once.
package main

import (
	"frontlinevoices/shared/erasure"
	"frontlinevoices/shared/lambdafn"
)

func main() { lambdafn.Start(erasure.FromEnv) }
