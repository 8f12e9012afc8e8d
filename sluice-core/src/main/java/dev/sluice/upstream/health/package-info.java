/** Active health checking of upstream hosts (HTTP, TCP, gRPC), as Envoy's health checkers. */
@NullMarked
package dev.sluice.upstream.health;

import org.jspecify.annotations.NullMarked;
