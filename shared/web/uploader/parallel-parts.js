// A copy of @uppy/aws-s3 6.3.1's lib/S3Uploader.js (MIT, Transloadit) that
// sends a file's parts in parallel. build.mjs puts it in place of the
// plugin's own S3Uploader.js when bundling; nothing else of the plugin
// changes (its options, queue of files, resume after a reload, events).
//
// Why: 6.3.1 awaits each part in turn (sign, send, sign, send) and its
// `limit` counts files, not requests, so one clip uses one connection
// (upstream issue transloadit/uppy#6547; pull request #6568 proposes the
// same change), and a part's signature is always on its path. Only
// #uploadMultipart, #uploadRemainingParts and #onProgress differ from
// upstream, with methods added for them (#createMultipartUpload: keeps the
// first parts' URLs create's answer carries; #partSigner: the other part
// URLs signed ahead, in batches, from Companion's batch route; #putPart:
// the PUT s3Client.uploadPart makes once it has a URL; progress reported
// to Uppy at most every PROGRESS_EVERY_MS). Drop this file when a release sends parts in parallel with their
// URLs signed ahead. build.mjs refuses to build if the upstream file is no
// longer the one this was copied from.

import { EventManager } from '@uppy/core';
import { toError } from '@uppy/core/utils';
// ============================================================================
// Constants
// ============================================================================
const MB = 1024 * 1024;
/** Minimum chunk size required by S3 (5MB) */
const MIN_CHUNK_SIZE = 5 * MB;
/** Maximum number of parts allowed by S3 */
const MAX_PARTS = 10000;
/** Parts of one file on the wire at once (browsers open 6 connections per host). */
const PARTS_IN_FLIGHT = 4;
/** Parts signed in one call to the companion's batch route (it signs 20 at most). */
const SIGN_AHEAD = 2 * PARTS_IN_FLIGHT;
/** A part URL with less than this left before it expires is signed again. */
const URL_MARGIN_MS = 60 * 1000;
/** Progress goes to Uppy at most this often (Uppy's total progress: 500 ms). */
const PROGRESS_EVERY_MS = 250;
export default class S3Uploader {
    #data;
    /** Key the object is stored under: the signer's if it returned one, else the requested one. */
    #resolvedKey;
    #options;
    #eventManager;
    #chunks = [];
    #chunkState = [];
    #shouldUseMultipart = false;
    #uploadId;
    #uploadHasStarted = false;
    #abortController;
    /** When progress last went to Uppy, and the timer of the next report. */
    #progressAt = -Infinity;
    #progressTimer;
    constructor(options) {
        if (options.file.data == null) {
            throw new Error(`File data is missing for file ${options.file.id}`);
        }
        this.#options = options;
        this.#data = options.file.data;
        this.#eventManager = new EventManager(options.uppy);
        // Detect resume state from file (persisted by Golden Retriever across page refreshes).
        // Must run before #initChunks so it can force multipart mode for resumed uploads.
        const resumeState = options.file.s3Multipart;
        if (resumeState) {
            this.#resolvedKey = resumeState.key;
            this.#uploadId = resumeState.uploadId;
            this.#uploadHasStarted = true;
        }
        const fileSize = options.file.data.size;
        // Determine if we should use multipart
        // If we're resuming a multipart upload, force multipart. Otherwise follow
        // the option. S3's 5 MiB minimum applies to every part except the last, so
        // a smaller file is a valid one-part upload. An empty file has no part to
        // send, so it stays a single PUT.
        this.#shouldUseMultipart =
            Boolean(resumeState) ||
                (this.#options.shouldUseMultipart === true && fileSize > 0);
        // Create chunks based on upload strategy
        if (this.#shouldUseMultipart) {
            // Calculate chunk size: at least MIN_CHUNK_SIZE, but may be larger for huge files
            let chunkSize = this.#getChunkSize(fileSize);
            chunkSize = Math.max(chunkSize, MIN_CHUNK_SIZE);
            // Ensure we don't exceed MAX_PARTS (S3 limit: 10,000 parts)
            if (Math.ceil(fileSize / chunkSize) > MAX_PARTS) {
                chunkSize = Math.ceil(fileSize / MAX_PARTS);
            }
            // Create chunk definitions
            for (let offset = 0, index = 0; offset < fileSize; offset += chunkSize, index++) {
                const end = Math.min(offset + chunkSize, fileSize);
                this.#chunks.push({ index, start: offset, end, size: end - offset });
            }
        }
        else {
            // Simple upload: single chunk for the entire file
            this.#chunks = [{ index: 0, start: 0, end: fileSize, size: fileSize }];
        }
        this.#chunkState = this.#chunks.map(() => ({ uploaded: 0 }));
        // Setup events:
        const fileId = this.#options.file.id;
        this.#eventManager.onFileRemove(fileId, () => {
            this.abort();
            this.#options.onAbort?.();
        });
        this.#eventManager.onCancelAll(fileId, () => {
            this.abort();
            this.#options.onAbort?.();
        });
        this.#eventManager.onFilePause(fileId, (isPaused) => {
            if (isPaused) {
                this.#pause();
            }
            else {
                this.start();
            }
        });
        this.#eventManager.onPauseAll(fileId, () => {
            this.#pause();
        });
        this.#eventManager.onResumeAll(fileId, () => {
            this.start();
        });
        this.#eventManager.onRetry(fileId, () => {
            this.start();
        });
        this.#eventManager.onRetryAll(fileId, () => {
            this.start();
        });
    }
    #getChunkSize(fileSize) {
        if (this.#options.getChunkSize) {
            return this.#options.getChunkSize({ size: fileSize });
        }
        return Math.ceil(fileSize / MAX_PARTS);
    }
    async start() {
        // Abort any pending operations (if not already aborted)
        this.#abortController?.abort();
        // Always create a fresh AbortController (also for resume)
        this.#abortController = new AbortController();
        const signal = this.#abortController.signal;
        try {
            const uploadId = this.#uploadId;
            if (this.#uploadHasStarted && uploadId) {
                await this.#resumeMultipartUpload(uploadId, signal);
            }
            else {
                this.#uploadHasStarted = true;
                if (this.#shouldUseMultipart) {
                    await this.#uploadMultipart(signal);
                }
                else {
                    await this.#uploadNonMultipart(signal);
                }
            }
        }
        catch (err) {
            this.#onError(toError(err));
        }
    }
    #pause() {
        this.#abortController?.abort();
    }
    /**
     *
     * @param opts - `abortInS3`: Whether to also abort the multipart upload in S3. Default: true. Set to false to keep the multipart upload in S3 active, allowing for manual cleanup later and preventing accidental data loss if the user later tries to resume the upload.
     */
    abort(opts) {
        this.#abortController?.abort();
        // Clean up event listeners
        this.#eventManager.remove();
        if (opts?.abortInS3 !== false && this.#uploadId) {
            if (!this.#resolvedKey) {
                throw new Error('Missing S3 object key for aborting upload');
            }
            this.#options.s3Client
                .abortMultipartUpload({
                key: this.#resolvedKey,
                uploadId: this.#uploadId,
            })
                .catch((abortErr) => {
                this.#options.log?.(abortErr, 'warning');
            });
        }
        this.#resolvedKey = undefined;
        this.#uploadId = undefined;
        this.#uploadHasStarted = false;
    }
    async #resumeMultipartUpload(uploadId, signal) {
        if (!this.#resolvedKey) {
            throw new Error('Missing S3 object key for resuming upload');
        }
        const existingParts = await this.#options.s3Client.listParts({
            uploadId,
            key: this.#resolvedKey,
            signal,
        });
        // Sync local state with S3 - mark already-uploaded parts
        for (const part of existingParts) {
            const chunkIndex = part.partNumber - 1;
            if (chunkIndex >= 0 && chunkIndex < this.#chunkState.length) {
                this.#chunkState[chunkIndex].uploaded = this.#chunks[chunkIndex].size;
                this.#chunkState[chunkIndex].etag = part.etag;
            }
        }
        // Emit progress update to reflect already-uploaded parts
        this.#onProgress();
        await this.#uploadRemainingParts(signal);
    }
    async #uploadNonMultipart(signal) {
        const { location, key } = await this.#options.s3Client.putObject({
            key: this.#options.requestedKey,
            data: this.#data,
            fileType: this.#options.file.type || 'application/octet-stream',
            metadata: this.#options.metadata,
            onProgress: (bytesUploaded) => {
                this.#chunkState[0].uploaded = bytesUploaded;
                this.#onProgress();
            },
            signal,
        });
        this.#onSuccess({
            location,
            key,
        });
    }
    // Changed from upstream: create's answer may carry the first parts'
    // URLs (#createMultipartUpload), handed on to #uploadRemainingParts.
    async #uploadMultipart(signal) {
        const { uploadId, key, first } = await this.#createMultipartUpload(signal);
        this.#resolvedKey = key;
        this.#uploadId = uploadId;
        // Persist resume state so Golden Retriever can restore it after page refresh
        this.#options.uppy.setFileState(this.#options.file.id, {
            s3Multipart: { uploadId, key },
        });
        await this.#uploadRemainingParts(signal, first);
    }
    // Added to upstream: s3Client.createMultipartUpload, but through a
    // companion the whole answer is read, to keep the first parts' URLs it
    // may carry ({key, uploadId, presignedUrls, expires}).
    async #createMultipartUpload(signal) {
        const fileType = this.#options.file.type || 'application/octet-stream';
        const client = this.#companion();
        if (!client) {
            return this.#options.s3Client.createMultipartUpload({
                key: this.#options.requestedKey,
                fileType,
                metadata: this.#options.metadata,
                signal,
            });
        }
        const response = await client._fetch('/multipart', {
            method: 'POST',
            body: JSON.stringify({ filename: this.#options.requestedKey, metadata: this.#options.metadata, type: fileType }),
            headers: { 'content-type': 'application/json' },
            signal,
        });
        const { key, uploadId, presignedUrls, expires } = await response.json();
        if (uploadId == null)
            throw new Error('No uploadId returned');
        if (key == null)
            throw new Error('No key returned');
        return { uploadId, key, first: { presignedUrls, expires } };
    }
    // The S3 client when it is the companion one this file knows, else null.
    #companion() {
        const client = this.#options.s3Client;
        return typeof client.companionEndpoint === 'string' && typeof client._fetch === 'function' &&
            typeof client._request === 'function'
            ? client
            : null;
    }
    // Changed from upstream: the parts go up to PARTS_IN_FLIGHT at a time,
    // their URLs signed ahead in batches (#partSigner), so no part waits
    // for its signature once the first batch is in (or create's answer
    // gave the first URLs). Upstream awaits each part in turn, signing it
    // just before it is sent.
    async #uploadRemainingParts(signal, first) {
        if (this.#resolvedKey == null) {
            throw new Error('Missing S3 object key for uploading part');
        }
        signal.throwIfAborted();
        const pending = [];
        for (let i = 0; i < this.#chunks.length; i++) {
            if (this.#chunkState[i].etag)
                continue; // already uploaded
            this.#chunkState[i].uploaded = 0; // a part cut short starts again
            pending.push(i);
        }
        this.#onProgress();
        // One controller for this attempt: a part that fails stops the
        // others, and a pause or removal (signal) stops them all.
        const attempt = new AbortController();
        const stop = () => attempt.abort(signal.reason);
        signal.addEventListener('abort', stop, { once: true });
        const signed = this.#partSigner(pending.map((i) => i + 1), attempt.signal, first);
        let next = 0;
        const worker = async () => {
            while (next < pending.length) {
                attempt.signal.throwIfAborted();
                const k = next++;
                const i = pending[k];
                const chunk = this.#chunks[i];
                const partNumber = i + 1;
                const part = {
                    key: this.#resolvedKey,
                    uploadId: this.#uploadId,
                    data: this.#data.slice(chunk.start, chunk.end),
                    partNumber,
                    onProgress: (bytesUploaded) => {
                        this.#chunkState[i].uploaded = bytesUploaded;
                        this.#onProgress();
                    },
                    signal: attempt.signal,
                };
                const { etag } = signed
                    ? await this.#putPart(await signed(k), part)
                    : await this.#options.s3Client.uploadPart(part);
                this.#chunkState[i].uploaded = chunk.size;
                this.#chunkState[i].etag = etag;
                this.#onProgress();
                this.#options.onPartComplete?.({ PartNumber: partNumber, ETag: etag });
            }
        };
        try {
            await Promise.all(Array.from({ length: Math.min(PARTS_IN_FLIGHT, pending.length) }, worker));
        }
        catch (err) {
            attempt.abort();
            throw err;
        }
        finally {
            signal.removeEventListener('abort', stop);
        }
        signal.throwIfAborted();
        const parts = this.#chunkState.flatMap((state, i) => state.etag ? [{ partNumber: i + 1, etag: state.etag }] : []);
        if (this.#resolvedKey == null) {
            throw new Error('Missing S3 object key for completing multipart upload');
        }
        const { location, key } = await this.#options.s3Client.completeMultipartUpload({
            key: this.#resolvedKey,
            uploadId: this.#uploadId,
            parts,
            signal,
        });
        this.#onSuccess({
            location,
            key,
            uploadId: this.#uploadId,
        });
    }
    // Added to upstream: the part URLs of one attempt, asked for from the
    // companion's batch route (GET /s3/multipart/{uploadId}/batch
    // ?key=&partNumbers=1,2,3, answering {presignedUrls: {"1": url, …},
    // expires}) SIGN_AHEAD parts at a time, the next batch while the
    // current one's last PARTS_IN_FLIGHT parts are on the wire; `first`
    // holds URLs already given (create's answer), used before any call.
    // Returns a function giving the URL of numbers[k] (null without a
    // companion: then each part is signed by s3Client.uploadPart, as
    // upstream does). A URL too close to its expiry to start a transfer is
    // signed again alone.
    #partSigner(numbers, signal, first) {
        const client = this.#companion();
        if (!client)
            return null;
        const urls = new Map(); // part number → Promise<{ url, until }>
        const lasts = (expires) => performance.now() + (Number(expires) > 0 ? Number(expires) : 300) * 1000;
        if (first?.presignedUrls && typeof first.presignedUrls === 'object') {
            const until = lasts(first.expires);
            for (const [n, url] of Object.entries(first.presignedUrls)) {
                if (typeof url === 'string')
                    urls.set(Number(n), Promise.resolve({ url, until }));
            }
        }
        const ask = (batch) => {
            const query = new URLSearchParams({ key: this.#resolvedKey, partNumbers: batch.join(',') });
            const reply = client
                ._fetch(`/multipart/${encodeURIComponent(this.#uploadId)}/batch?${query}`, { method: 'GET', signal })
                .then((res) => res.json())
                .then(({ presignedUrls, expires }) => ({ presignedUrls, until: lasts(expires) }));
            for (const n of batch) {
                const url = reply.then(({ presignedUrls, until }) => {
                    if (typeof presignedUrls?.[n] !== 'string')
                        throw new Error(`Companion request failed: no URL for part ${n}`);
                    return { url: presignedUrls[n], until };
                });
                url.catch(() => { }); // awaited by the part's worker, if its turn comes
                urls.set(n, url);
            }
        };
        let asked = 0; // numbers[0 … asked) have a URL or are asked for
        while (asked < numbers.length && urls.has(numbers[asked]))
            asked++;
        return async (k) => {
            while (asked < numbers.length && k + PARTS_IN_FLIGHT >= asked) {
                const batch = numbers.slice(asked, asked + SIGN_AHEAD);
                asked += batch.length;
                ask(batch);
            }
            const n = numbers[k];
            const { url, until } = await urls.get(n);
            if (performance.now() < until - URL_MARGIN_MS)
                return url;
            ask([n]);
            return (await urls.get(n)).url;
        };
    }
    // Added to upstream: what s3Client.uploadPart does once it has the URL.
    async #putPart(url, { data, onProgress, signal }) {
        const xhr = await this.#options.s3Client._request({ url, method: 'PUT', data, onProgress, signal });
        const etag = xhr.getResponseHeader('etag')?.replace(/^"+|"+$/g, '');
        if (etag == null) {
            throw new Error('[s3mini] Missing ETag in uploadPart response headers');
        }
        return { etag };
    }
    // Changed from upstream: progress goes to Uppy at most every
    // PROGRESS_EVERY_MS (the latest figure, at the end of the wait), not on
    // every XHR progress event of every part: each one is a state update
    // and a redraw of the Dashboard on the page's main thread.
    #onProgress() {
        if (!this.#options.onProgress)
            return;
        const wait = this.#progressAt + PROGRESS_EVERY_MS - performance.now();
        if (wait > 0) {
            this.#progressTimer ??= setTimeout(() => this.#emitProgress(), wait);
            return;
        }
        this.#emitProgress();
    }
    #emitProgress() {
        this.#stopProgress();
        this.#progressAt = performance.now();
        const bytesUploaded = this.#chunkState.reduce((sum, state) => sum + state.uploaded, 0);
        this.#options.onProgress(bytesUploaded, this.#data.size);
    }
    #stopProgress() {
        clearTimeout(this.#progressTimer);
        this.#progressTimer = undefined;
    }
    #onSuccess(result) {
        this.#stopProgress();
        // If the upload was aborted (file removed mid-upload), the network request
        // may still complete successfully. Don't emit success in this case since
        // the file no longer exists in Uppy's state.
        this.#eventManager.remove();
        // Clear persisted resume state — upload completed successfully.
        this.#options.uppy.setFileState(this.#options.file.id, {
            s3Multipart: undefined,
        });
        this.#options.onSuccess?.(result);
    }
    #onError(err) {
        this.#stopProgress();
        // ignore abort signals from intentional cancellation
        if (err.name === 'AbortError')
            return;
        // Clean up event listeners so this uploader doesn't become a "zombie"
        // that reacts to future retry/pause/resume events after the error.
        // Without this, each failed retry leaves an orphaned uploader that
        // still listens for retry-all, causing duplicate uploads on the next
        // successful retry.
        this.#eventManager.remove();
        // NOTE: We intentionally do NOT abort the multipart upload in S3 here.
        // This allows the user to retry and resume from where they left off.
        // The multipart upload is only aborted when the user cancels via the
        // `abort()` method. By default `abort()` will also abort the multipart
        // upload in S3 (abortInS3 = true). Pass { abortInS3: false } to keep the
        // multipart upload in S3 so it can be cleaned up manually or resumed later.
        this.#options.onError?.(err);
    }
}
