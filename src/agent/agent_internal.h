/* What the two halves of libcrashgrid_agent.so share: crashgrid_agent.c (the fault notifier, signals, thread
 * starts, the constructor) and api_track.c (API-call tracking, --serialize). Hidden symbols only. */
#ifndef CRASHGRID_AGENT_INTERNAL_H_
#define CRASHGRID_AGENT_INTERNAL_H_

#include "agent/agent_block.h"
#include "agent/amplify.h"

/* Called once by the constructor with the mapped block (NULL without one: tracking stays off, and so do the
 * program's phases). Reads AGENT_ENV_API and AGENT_ENV_SERIALIZE. Cheap: no symbol lookups, no allocation (interposed functions resolve
 * what they call at their first call). */
void cg_api_init(struct agent_block* block);
/* In a fork()ed child: the forking thread's slot belongs to the parent's thread. */
void cg_api_after_fork_child(void);
/* The API region of the block, NULL without one (also with CRASHGRID_API=off: the program's phases use it). */
struct agent_api* cg_api_region(void);
/* The calling thread's slot in the region (claimed at its first use), NULL without a region or a free slot. */
struct agent_api_thread* cg_api_thread_slot(void);
/* Resolves `name` in the objects after the agent, with the real dlsym (the agent interposes dlsym). */
void* cg_next_symbol(const char* name);

/* --amplify (amplify.c): reads AGENT_ENV_AMPLIFY and AGENT_ENV_AMPLIFY_SEED once, from the constructor. */
void cg_amp_init(struct agent_block* block);
void cg_amp_after_fork_child(void);
/* 1 when delays are injected: the one branch every amplification point costs when off. */
extern int cg_amp_on;
/* An amplification point of kind enum cg_amp_point (amplify.h): maybe waits. Call only when cg_amp_on. */
void cg_amp_point(int kind);

#endif /* CRASHGRID_AGENT_INTERNAL_H_ */
