// Module worker: imports the package's browser entry (which loads its own
// .wasm relative to import.meta.url) and runs waitForJob on request.
import { waitForJob, PulseError } from "/pulse-jobs/web/index.js";

const controllers = new Map();

self.addEventListener("message", async (e) => {
  const msg = e.data;
  if (msg.type === "abort") {
    controllers.get(msg.id)?.abort();
    return;
  }
  if (msg.type !== "wait") return;
  const { id, jobId, options } = msg;
  const controller = new AbortController();
  controllers.set(id, controller);
  let lastDownload = null;
  try {
    const job = await waitForJob(jobId, {
      ...options,
      signal: controller.signal,
      onProgress(job, info) {
        self.postMessage({ id, type: "progress", status: job.status, info: { ...info } });
      },
      onDownloadProgress(p) {
        lastDownload = { loaded: p.loaded, total: p.total };
      },
    });
    self.postMessage({ id, type: "done", ok: true, job, download: lastDownload });
  } catch (err) {
    self.postMessage({
      id,
      type: "done",
      ok: false,
      download: lastDownload,
      error: {
        isPulseError: err instanceof PulseError,
        name: err?.name,
        code: err?.code,
        message: err?.message,
        httpStatus: err?.httpStatus,
        retryable: err?.retryable,
        jobId: err?.jobId,
        jobStatus: err?.job?.status,
        causeIsSignalReason: controller.signal.aborted && err?.cause === controller.signal.reason,
      },
    });
  } finally {
    controllers.delete(id);
  }
});

self.postMessage({
  type: "ready",
  scope: self.constructor.name,
  hasWindow: typeof window !== "undefined",
  exports: { waitForJob: typeof waitForJob, PulseError: typeof PulseError },
});
