// Which host process owns a long job. A job left 'running' in the database is only stale when
// its host is gone: the CLI opening the same data folder must not interrupt the web host's job.
export function hostAlive(pid: number | null): boolean {
  if (!pid || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
