// The peer for the upload bench: @uppy/companion's S3 signing routes,
// standalone, against the local stack's S3 (settings from the environment).
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import express from 'express'
import * as companion from '@uppy/companion'

const env = process.env
const port = Number(env.PEER_PORT || 0)
const app = express()
const server = app.listen(port, '127.0.0.1', () => {
  const { port } = server.address()
  const { app: companionApp } = companion.app({
    s3: {
      key: env.PEER_S3_KEY,
      secret: env.PEER_S3_SECRET,
      bucket: env.PEER_S3_BUCKET,
      region: env.PEER_S3_REGION,
      endpoint: env.PEER_S3_ENDPOINT,
      forcePathStyle: true,
    },
    server: { host: `127.0.0.1:${port}`, protocol: 'http' },
    filePath: mkdtempSync(path.join(tmpdir(), 'companion-')),
    secret: 'upload-bench',
    corsOrigins: [env.PEER_SITE_ORIGIN],
    uploadUrls: [env.PEER_SITE_ORIGIN],
    metrics: false,
  })
  app.use(companionApp)
  console.log(`listening http://127.0.0.1:${port}`)
})
