// Node, import: the same instance as require(), so one PulseError class serves both.
import pulse from "./index.cjs";

export const { waitForJob, getJob, cancelJob, submitJob, runJob, watchJob, waitForJobs, PulseClient, PulseError, preload } = pulse;
