/** The publications the shipped scenarios reproduce, cited in their tables and in docs/simulator.md. */

/** Linkerd's 2016 load-balancing experiment. */
export const LINKERD_2016 = 'Steve Jenson and Ruben Oanta, "Beyond Round Robin: Load Balancing for Latency", Linkerd blog, 16 March 2016, https://linkerd.io/2016/03/16/beyond-round-robin-load-balancing-for-latency/';

/** Linkerd's 2017 failure accrual experiment. */
export const LINKERD_2017 = 'Kevin Lingerfelt, "Making microservices more resilient with circuit breaking", Linkerd blog, 13 January 2017, https://blog.linkerd.io/2017/01/13/making-microservices-more-resilient-with-circuit-breaking/';

/** Dean and Barroso's hedged-request measurement. */
export const TAIL_AT_SCALE = 'Jeffrey Dean and Luiz Andre Barroso, "The Tail at Scale", Communications of the ACM 56(2), February 2013, doi:10.1145/2408776.2408794';

/** Naive retry amplification: every tier makes up to 4 attempts, so 4 x 4 x 4 reach the bottom. */
export const RETRY_ARITHMETIC = 'arithmetic: 3 tiers x (1 attempt + 3 retries) = 4^3 = 64 requests at the bottom tier per user request';

/** The retry budget meshkit's default follows. */
export const FINAGLE_RETRY_BUDGET = "Finagle's RetryBudget default (retries up to 20 % of requests, plus 10 per second, over 10 s), https://twitter.github.io/finagle/guide/Clients.html#retries";
