// Builds ../static/uploader.js and ../static/uploader.css (npm run build).
//
// One module of @uppy/aws-s3 is replaced while bundling: its
// lib/S3Uploader.js, by ./parallel-parts.js, a copy that sends a file's
// parts in parallel (see that file). The build stops if the installed
// upstream file differs from the one the copy was made from, so an Uppy
// upgrade cannot silently drop or misapply the change.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as esbuild from 'esbuild'

const here = path.dirname(fileURLToPath(import.meta.url))
const UPSTREAM = 'node_modules/@uppy/aws-s3/lib/S3Uploader.js'
// sha256 of @uppy/aws-s3 6.3.1's lib/S3Uploader.js.
const UPSTREAM_SHA256 = '85f7672e572154de68de932939b7fec06ff498c6a6b09003449db75cae4c99c4'

const upstream = path.join(here, UPSTREAM)
const sum = createHash('sha256').update(readFileSync(upstream)).digest('hex')
if (sum !== UPSTREAM_SHA256) {
  const { version } = createRequire(import.meta.url)('@uppy/aws-s3/package.json')
  console.error(`${UPSTREAM} (@uppy/aws-s3 ${version}) is not the file parallel-parts.js was copied from (sha256 ${sum}).`)
  console.error('Compare the two, carry the parallel #uploadRemainingParts over (or drop it if upstream sends parts in parallel now), then update UPSTREAM_SHA256.')
  process.exit(1)
}

const parallelParts = {
  name: 'parallel-parts',
  setup(build) {
    build.onResolve({ filter: /^\.\/S3Uploader\.js$/ }, (args) =>
      path.resolve(args.resolveDir, args.path) === upstream
        ? { path: path.join(here, 'parallel-parts.js') }
        : undefined,
    )
  },
}

const result = await esbuild.build({
  entryPoints: [path.join(here, 'entry.js')],
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2020',
  outfile: path.join(here, '../static/uploader.js'),
  plugins: [parallelParts],
  metafile: true,
  logLevel: 'info',
})
if (!Object.keys(result.metafile.inputs).some((p) => p.endsWith('parallel-parts.js'))) {
  console.error('parallel-parts.js did not replace @uppy/aws-s3/lib/S3Uploader.js')
  process.exit(1)
}
await esbuild.build({
  entryPoints: [path.join(here, 'entry.css')],
  bundle: true,
  minify: true,
  outfile: path.join(here, '../static/uploader.css'),
  logLevel: 'info',
})
