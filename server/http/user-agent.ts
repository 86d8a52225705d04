// The User-Agent as Latchkey records it (access log, audit events): a header
// of any length is the client's choice, a log line's or a row's size is not.
// One cap for both, so an access line and the audit event of the same
// request show the same text.
export const USER_AGENT_MAX = 256;

/** The header cut to USER_AGENT_MAX characters; undefined when absent or empty. */
export function cappedUserAgent(agent: string | string[] | undefined): string | undefined {
  if (typeof agent !== 'string' || agent === '') return undefined;
  return agent.length > USER_AGENT_MAX ? agent.slice(0, USER_AGENT_MAX) : agent;
}
