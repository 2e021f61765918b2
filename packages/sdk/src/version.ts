/** The package version, sent in the Stream `ua` as `dingtalk-skills-node/<version>`. */
export const VERSION = '0.1.0';
export const USER_AGENT = `dingtalk-skills-node/${VERSION}`;
