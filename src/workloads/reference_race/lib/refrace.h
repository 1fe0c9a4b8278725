/* libcrashgrid_refrace: a deliberately thread-unsafe "device" for checking crashgrid itself.
 *
 * One process-wide device context keeps a registry of opened sessions in a table that refrace_session_open
 * re-maps when it fills up (a new mapping, the newest entries copied over, the old mapping unmapped), with no
 * lock. Two threads opening sessions at once can therefore read or write through a table pointer that another
 * thread has just unmapped: a SIGSEGV inside this library, as real drivers crash inside their own modules.
 * Using and closing a session touch only that session's private memory and are thread-safe, so the race lives
 * entirely in refrace_session_open. One thread never crashes. */
#ifndef CRASHGRID_REFRACE_H_
#define CRASHGRID_REFRACE_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct refrace_session refrace_session;

/* Creates the process-wide device context (reference counted; call from one thread, before the others
 * start). Returns 0, or -1 with errno set. */
int refrace_device_open(void);
/* Drops a reference; the last one unmaps the session table. No session may be open any more. */
void refrace_device_close(void);

/* Opens a session on the device: registers it in the shared session table. NOT thread-safe (the point). */
refrace_session* refrace_session_open(uint64_t owner);
/* Real work on the session's private buffer: `passes` passes of a mixing function. Thread-safe. */
uint64_t refrace_session_use(refrace_session* s, unsigned passes);
/* Frees the session's private memory. Thread-safe: never touches the shared table. */
void refrace_session_close(refrace_session* s);

/* How many times the session table was re-mapped in this process (for tests and curiosity). */
uint64_t refrace_table_generation(void);

#ifdef __cplusplus
}
#endif

#endif /* CRASHGRID_REFRACE_H_ */
