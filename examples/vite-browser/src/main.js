// Watches a Pulse job from the page. The page holds no key: every request
// goes to this site's /pulse/ proxy (server.js), which adds it on the server.
import { watchJob } from "pulse-jobs";

const baseUrl = new URL("/pulse", location.href).href;
const STAGES = { pending: 1, processing: 2, completed: 3 };
const $ = (id) => document.getElementById(id);
let watch;

$("watch").addEventListener("submit", async (event) => {
  event.preventDefault();
  const jobId = new FormData(event.target).get("job").trim();
  $("status").textContent = "starting…";
  $("result").textContent = "";
  await watch?.return(); // a new job replaces the one being watched
  watch = watchJob(jobId, { baseUrl });
  try {
    for await (const job of watch) {
      $("status").textContent = `${job.status} · poll ${watch.state.attempt}`;
      $("progress").value = STAGES[job.status] ?? 0;
      if (job.status === "completed") $("result").textContent = job.result.markdown;
    }
  } catch (error) {
    $("status").textContent = `${error.code}: ${error.message}`; // a PulseError never holds the key
  }
});
