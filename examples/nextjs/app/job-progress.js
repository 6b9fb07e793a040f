"use client";
// Submits a document and shows the job's progress, in the browser. Every
// request goes to this app's proxy (/api/pulse), which adds the key on the
// server. The watch's `state` is kept in localStorage, so a reload goes on
// with the same wait (`resume`) instead of starting over.
import { useEffect, useState } from "react";
import { submitJob, watchJob } from "pulse-jobs";

const SAVED = "pulse-jobs-watch";
const STAGES = { pending: 1, processing: 2, completed: 3 };
const proxy = () => new URL("/api/pulse", location.href).href;

function savedState() {
  try {
    return JSON.parse(localStorage.getItem(SAVED));
  } catch {
    return null;
  }
}

export default function JobProgress() {
  const [jobId, setJobId] = useState(null);
  const [view, setView] = useState(null);

  // The job of the address (?job=…), else the one a reload interrupted.
  useEffect(() => {
    setJobId(new URLSearchParams(location.search).get("job") ?? savedState()?.jobId ?? null);
  }, []);

  useEffect(() => {
    if (!jobId) return;
    setView(null);
    const saved = savedState();
    const resume = saved?.jobId === jobId ? saved : undefined;
    const watch = watchJob(jobId, { baseUrl: proxy(), resume });
    (async () => {
      try {
        for await (const job of watch) {
          localStorage.setItem(SAVED, JSON.stringify(watch.state));
          setView({ job, attempt: watch.state.attempt, startedAt: watch.state.startedAt, resumed: Boolean(resume) });
        }
        localStorage.removeItem(SAVED);
      } catch (error) {
        localStorage.removeItem(SAVED);
        setView((v) => ({ ...v, error: `${error.code ?? error.name}: ${error.message}` }));
      }
    })();
    return () => void watch.return(); // leaving the page stops polling
  }, [jobId]);

  async function submit(event) {
    event.preventDefault();
    const { job_id } = await submitJob(new FormData(event.currentTarget), { baseUrl: proxy() });
    history.replaceState(null, "", `?job=${encodeURIComponent(job_id)}`);
    setJobId(job_id);
  }

  const status = view?.job?.status;
  return (
    <section>
      <form onSubmit={submit}>
        <input type="file" name="file" required /> <button>Extract</button>
      </form>
      {view && (
        <div id="job" data-job={jobId} data-status={status} data-attempt={view.attempt} data-started-at={view.startedAt} data-resumed={view.resumed}>
          <p>
            Job {jobId}: <b>{status}</b>, poll {view.attempt}, {((Date.now() - view.startedAt) / 1000).toFixed(1)} s
            {view.resumed && " (resumed after a reload)"}
          </p>
          <progress max={3} value={STAGES[status] ?? 0} />
          {view.error && <p role="alert">{view.error}</p>}
          {status === "completed" && <pre>{view.job.result.markdown.slice(0, 2000)}</pre>}
        </div>
      )}
    </section>
  );
}
