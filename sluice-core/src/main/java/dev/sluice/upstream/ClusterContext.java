package dev.sluice.upstream;

import dev.sluice.api.stats.StatsScope;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;

/** What the cluster manager hands every cluster it builds. */
record ClusterContext(
    StatsScope root,
    int concurrency,
    long seed,
    ScheduledExecutorService control,
    Executor resolverExecutor,
    HostnameResolver resolver,
    ClusterImpl.Events events) {}
