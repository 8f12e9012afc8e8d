package dev.sluice.extensions.filters.network.rbac;

import dev.sluice.rbac.RbacEngine;
import dev.sluice.rbac.RbacStats;
import org.jspecify.annotations.Nullable;

/**
 * A compiled network {@code RBAC}.
 *
 * @param continuous {@code enforcement_type: CONTINUOUS}: every read is checked, not only the first
 * @param delayDenyNanos {@code delay_deny}: how long a denied connection is held (reads dropped) before it is closed
 */
record RbacNetworkConfig(
    @Nullable RbacEngine rules, @Nullable RbacEngine shadowRules, RbacStats stats, boolean continuous, long delayDenyNanos) {}
