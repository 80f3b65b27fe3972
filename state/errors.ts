// Every failure the storage layer reports carries a stable code, so the node and the CLI can
// tell an operator what to do ("another node is running", "restore from a snapshot") without
// parsing messages or leaking raw LevelDB or decoder exceptions.

export type StoreErrorCode =
  | "LOCKED" // another process holds the database's LOCK file
  | "NOT_FOUND" // no database at the path and the caller asked not to create one
  | "NOT_A_DIRECTORY" // the path exists but is a file
  | "IO" // the file system refused (permissions, disk full, ...)
  | "CORRUPT" // stored bytes do not decode, or the head's tree does not match its root
  | "INCOMPATIBLE" // a Wattcap store of another format version
  | "INVALID_COMMIT" // a commit that does not extend the head or mixes up its inputs
  | "VERSION_UNAVAILABLE" // a state version that is pruned or not committed yet
  | "CLOSED"; // the store was used after close()

export class StoreError extends Error {
  override name = "StoreError";
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
