// Stock Uppy 6.3.1 with @uppy/aws-s3 in companion mode (nothing replaced).
import Uppy from '@uppy/core'
import AwsS3 from '@uppy/aws-s3'
window.PeerUppy = { Uppy, AwsS3 }
