// The worker-thread side of VerifyPool: unpacks a chunk, runs the very verifyJob the calling
// thread would run, and sends one byte per job back in a transferred buffer.
import { parentPort } from "node:worker_threads";
import { unpackJobs, type VerifyReply, type VerifyRequest, verifyJob } from "./verify-pool.js";

const port = parentPort;
if (!port) throw new Error("verify-worker.js runs only as a worker thread of VerifyPool");

port.on("message", (request: VerifyRequest) => {
  const jobs = unpackJobs(request.packed);
  const results = new Uint8Array(jobs.length);
  for (let i = 0; i < jobs.length; i++) results[i] = verifyJob(jobs[i]!) ? 1 : 0;
  const reply: VerifyReply = { id: request.id, results };
  port.postMessage(reply, [results.buffer]);
});
