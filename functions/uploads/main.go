// Command uploads signs direct browser-to-S3 clip uploads: the Uppy
// companion S3 routes under /api/s3, for the story the upload token names.
package main

import (
	"frontlinevoices/shared/lambdafn"
	"frontlinevoices/shared/uploads"
)

func main() { lambdafn.Start(uploads.FromEnv) }
