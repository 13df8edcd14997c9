// Frontline Voices video uploader: browser → S3 through the site's
// companion-style signing routes (<data-endpoint>/s3/...).
//
// Built with esbuild into ../static/uploader.js (see README.md).
// Written against the installed Uppy 6 sources; option names checked there:
//   @uppy/aws-s3 6.3.1: companion mode is `companionEndpoint` (there is no
//     `endpoint`, `headers` or `retryDelays` option any more).
//   @uppy/dashboard 6: `hideProgressDetails: false` replaces `showProgressDetails`.
//   @uppy/webcam 6: there is no `showRecordedVideoPreview`; a recorded video is
//     always previewed before it is added.
import Uppy from '@uppy/core'
import Dashboard from '@uppy/dashboard'
import Webcam from '@uppy/webcam'
import GoldenRetriever from '@uppy/golden-retriever'
import AwsS3 from '@uppy/aws-s3'

const MiB = 1024 * 1024
const MULTIPART_THRESHOLD = 10 * MiB
const DEFAULT_PART_SIZE = 8 * MiB
// Delays (ms) before each retry of an idempotent (GET/DELETE) signing call
// that failed with a network error, 429 or 5xx. @uppy/aws-s3 6 dropped its
// `retryDelays` option and never retries companion calls itself; it retries
// the S3 PUT/POST transfers on its own (3 times, 300/600/1200 ms).
const RETRY_DELAYS = [0, 1000, 3000, 5000]

function intAttr(value, fallback) {
  const n = Number.parseInt(value ?? '', 10)
  return Number.isFinite(n) && n > 0 ? n : fallback
}

function listAttr(value) {
  return (value || '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
}

function humanBytes(bytes) {
  const GiB = 1024 * MiB
  if (bytes >= GiB) return `${Number((bytes / GiB).toFixed(1))} GB`
  if (bytes >= MiB) return `${Number((bytes / MiB).toFixed(1))} MB`
  return `${Math.max(1, Math.round(bytes / 1024))} KB`
}

function humanList(items) {
  if (items.length <= 1) return items.join('')
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`
}

function buildNote(maxBytes, maxFiles, exts, types) {
  const parts = []
  if (maxFiles) {
    parts.push(maxFiles === 1 ? 'One video' : `Up to ${maxFiles} videos`)
  } else {
    parts.push('Videos')
  }
  if (maxBytes) parts.push(`, each up to ${humanBytes(maxBytes)}`)
  parts.push('.')
  const names = exts.length
    ? exts.map((e) => e.replace(/^\./, '').toUpperCase())
    : types.map((t) => t.replace(/^video\//, '').toUpperCase())
  if (names.length) parts.push(` Accepted formats: ${humanList(names)}.`)
  return parts.join('')
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new DOMException('Aborted', 'AbortError'))
      return
    }
    const onAbort = () => {
      clearTimeout(timer)
      reject(new DOMException('Aborted', 'AbortError'))
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

// @uppy/aws-s3 6 calls the companion routes with the global `fetch` and has
// no option for extra headers or retries, so wrap `fetch` for URLs under
// `<endpoint>/s3/` only, to retry idempotent calls. The upload token is in
// no URL, page or header here: it travels in its HttpOnly cookie, which a
// same-origin fetch sends. Every other request goes to the original fetch
// untouched.
function wrapCompanionFetch(prefix) {
  const originalFetch = window.fetch.bind(window)
  const resolvedPrefix = new URL(prefix, document.baseURI).href
  const wrapped = async (input, init) => {
    const url =
      typeof input === 'string'
        ? input
        : input instanceof URL
          ? input.href
          : input?.url
    let absolute
    try {
      absolute = new URL(url, document.baseURI).href
    } catch {
      return originalFetch(input, init)
    }
    if (!absolute.startsWith(resolvedPrefix)) return originalFetch(input, init)

    const opts = { ...(init || {}), credentials: 'same-origin' }
    const method = (opts.method || 'GET').toUpperCase()
    const retryable = method === 'GET' || method === 'DELETE'

    for (let attempt = 0; ; attempt++) {
      const canRetry = retryable && attempt < RETRY_DELAYS.length
      try {
        const res = await originalFetch(url, opts)
        if (!canRetry || !(res.status === 429 || res.status >= 500)) return res
      } catch (err) {
        if (!canRetry || err?.name === 'AbortError') throw err
      }
      await sleep(RETRY_DELAYS[attempt], opts.signal)
    }
  }
  window.fetch = wrapped
}

function setStatus(text, focus) {
  const status = document.getElementById('uploader-status')
  if (!status) return
  status.textContent = text
  if (focus) {
    // When an upload ends the focus goes to what happened, not the page.
    status.tabIndex = -1
    status.focus()
  }
}

// The Dashboard's words for this device: phones and tablets (a coarse
// pointer) have nothing to drop files on; an upload that ends is sent, not
// yet accepted (the check on arrival gives each file its verdict).
function uploaderStrings() {
  const touch = window.matchMedia && window.matchMedia('(pointer: coarse)').matches
  return {
    dropPasteFiles: touch ? '%{browseFiles}' : 'Drop videos here or %{browseFiles}',
    dropPasteImportFiles: touch ? '%{browseFiles} or record one now:' : 'Drop videos here, %{browseFiles} or record one now:',
    dropHint: 'Drop your videos here',
    browseFiles: touch ? 'Choose videos from your phone' : 'choose videos',
    myDevice: touch ? 'My phone' : 'My device',
    uploadComplete: 'Sent',
    complete: 'Sent for checking',
  }
}

function errorText(error) {
  const msg = (error && error.message) || ''
  if (/^Companion request failed/.test(msg)) {
    return 'the server refused the upload request; your link may have expired'
  }
  if (/ETag/.test(msg)) return 'the storage service response could not be read'
  return msg || 'unknown error'
}

// Uppy's Dashboard gives each file row role="listitem" but, when there is
// a single file, no role="list" around it (axe: aria-required-parent,
// critical). Give the file list its role whenever the Dashboard redraws.
function keepFileListRole(el) {
  const fix = () => {
    for (const files of el.querySelectorAll('.uppy-Dashboard-files:not([role])')) {
      files.setAttribute('role', 'list')
    }
  }
  new MutationObserver(fix).observe(el, { childList: true, subtree: true })
  fix()
}

function init() {
  const el = document.getElementById('uploader')
  if (!el || el.dataset.uploaderReady) return
  el.dataset.uploaderReady = '1'

  const ds = el.dataset
  const endpoint = (ds.endpoint || '/api').replace(/\/+$/, '')
  const story = ds.story || ''
  const maxBytes = intAttr(ds.maxBytes, null)
  const maxFiles = intAttr(ds.maxFiles, null)
  const types = listAttr(ds.types)
  const exts = listAttr(ds.exts).map((e) => (e.startsWith('.') ? e : `.${e}`))
  const partSize = intAttr(ds.partSize, DEFAULT_PART_SIZE)
  const allowedFileTypes = [...types, ...exts]

  wrapCompanionFetch(`${endpoint}/s3/`)

  const uppy = new Uppy({
    // Scopes Golden Retriever's saved state to this story.
    id: `frontline-uploader-${story.replace(/[^A-Za-z0-9_-]/g, '') || 'default'}`,
    autoProceed: false,
    restrictions: {
      maxFileSize: maxBytes,
      maxNumberOfFiles: maxFiles,
      allowedFileTypes: allowedFileTypes.length ? allowedFileTypes : null,
    },
    meta: { story },
  })

  uppy.use(Dashboard, {
    inline: true,
    target: el,
    width: '100%',
    height: 420,
    proudlyDisplayPoweredByUppy: false,
    hideProgressDetails: false,
    note: buildNote(maxBytes, maxFiles, exts, types),
    showRemoveButtonAfterComplete: false,
    theme: 'light',
    // A rejected clip cannot be sent again as it is: no per-file Retry
    // (the status bar's Retry stays for uploads that failed on the way).
    hideRetryButton: true,
    locale: { strings: uploaderStrings() },
  })

  uppy.use(Webcam, {
    target: Dashboard,
    modes: ['video-audio', 'video-only'],
    preferredVideoMimeType: 'video/webm',
    showRecordingLength: true,
    // `mobileNativeCamera` is left at its default, isMobile({tablet: true}):
    // phones/tablets get the native camera button, desktops the in-page
    // recorder. Passing `true` would hide the in-page recorder everywhere.
  })

  uppy.use(GoldenRetriever, {
    serviceWorker: false,
    // Passed through to the IndexedDB blob store at run time (see README):
    // its defaults (10 MiB per file, 300 MiB in all) would keep videos out.
    indexedDB: {
      maxFileSize: maxBytes || 10 * 1024 * MiB,
      maxTotalSize: (maxBytes || 10 * 1024 * MiB) * (maxFiles || 5),
    },
  })

  uppy.use(AwsS3, {
    companionEndpoint: endpoint,
    shouldUseMultipart: (file) => (file.size || 0) > MULTIPART_THRESHOLD,
    getChunkSize: () => partSize,
    // Only these meta fields travel to the server (default would send all).
    // The size lets the server sign each part for exactly its length.
    allowedMetaFields: ['story', 'name', 'type', 'size'],
  })

  const withSize = (file) => {
    if (file && Number.isFinite(file.size)) uppy.setFileMeta(file.id, { size: String(file.size) })
  }
  uppy.on('file-added', withSize)
  // Files restored by Golden Retriever keep the meta they had before the
  // reload; give them this page's story.
  uppy.on('restored', () => {
    uppy.setMeta({ story })
    uppy.getFiles().forEach(withSize)
  })

  uppy.on('restriction-failed', (file, error) => {
    const prefix = file?.name ? `"${file.name}" was not added: ` : ''
    setStatus(`${prefix}${error?.message || 'this file is not allowed.'}`)
  })

  let lastError = ''
  uppy.on('upload-error', (file, error) => {
    const name = file?.name ? `"${file.name}"` : 'a video'
    lastError = errorText(error)
    setStatus(`Upload of ${name} failed: ${lastError}. Press Retry to try again.`)
  })

  uppy.on('upload-start', (files) => {
    lastError = ''
    if (files.length) setStatus(`Uploading ${files.length} video${files.length === 1 ? '' : 's'}…`)
  })

  uppy.on('complete', (result) => {
    const ok = (result && result.successful ? result.successful : []).length
    const failed = (result && result.failed ? result.failed : []).length
    document.body.dataset.uploadsComplete = String(ok)
    const sent = `${ok} video${ok === 1 ? '' : 's'} sent`
    if (failed) {
      const why = lastError ? ` (${lastError})` : ''
      setStatus(`${sent}, ${failed} failed${why}. Press Retry to try again.`, true)
    } else {
      setStatus(`${sent}. We are checking ${ok === 1 ? 'it' : 'them'}: the result shows beside each video.`, true)
    }
    document.dispatchEvent(new CustomEvent('uploader:complete', { detail: result }))
  })

  keepFileListRole(el)
  window.frontlineUppy = uppy
}

if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', init)
} else {
  init()
}
