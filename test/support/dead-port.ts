// A port on 127.0.0.1 where nothing listens, for calls that must fail with
// Unavailable (ECONNREFUSED). A port taken from the OS and closed again can
// be handed to another process a moment later, on a busy machine: the calls
// then reach someone's server. Port 1 (tcpmux) is privileged, so no test
// process running as an ordinary user can take it, and nothing on the
// project's machines serves it.

/** The base URL of a port on 127.0.0.1 where nothing listens. */
export const deadUrl = "http://127.0.0.1:1";
