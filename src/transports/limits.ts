/**
 * The largest JSON-RPC message either transport reads: an HTTP body or one stdio line. Far above what
 * any tool accepts (a policy text is at most 50,000 characters), so only a broken or hostile client
 * reaches it, and it gets an error answer instead of a crash.
 */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
