import JobProgress from "./job-progress.js";

export default function Page() {
  return (
    <main>
      <h1>Pulse extraction</h1>
      <JobProgress />
    </main>
  );
}
