// The baseline: a careful hand-written JS poller, as an app would write it
// without pulse-jobs. Same schedule (exponential backoff, no jitter here),
// same large-result download, no retries or abort handling.
export async function plainWaitForJob(jobId, { apiKey, baseUrl, initialDelayMs = 1000, multiplier = 1.5, maxDelayMs = 15000 }) {
  const headers = apiKey ? { "x-api-key": apiKey } : {};
  const url = `${baseUrl}/job/${encodeURIComponent(jobId)}`;
  for (let attempt = 1; ; attempt += 1) {
    const response = await fetch(url, { headers });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const job = await response.json();
    if (job.status === "completed") {
      if (job.result?.is_url === true) {
        const download = await fetch(job.result.url);
        if (!download.ok) throw new Error(`download HTTP ${download.status}`);
        job.result = await download.json();
      }
      return job;
    }
    if (["failed", "canceled", "cancelled", "expired"].includes(job.status)) throw new Error(job.status);
    const delay = Math.min(maxDelayMs, initialDelayMs * multiplier ** (attempt - 1));
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
