/** Envoy's RBAC policies ({@code envoy.config.rbac.v3}) compiled into matchers, shared by the network and HTTP RBAC filters. */
@NullMarked
package dev.sluice.rbac;

import org.jspecify.annotations.NullMarked;
