/** Envoy's admin HTTP API: the server, its built-in endpoints and the interfaces they read. */
@NullMarked
package dev.sluice.admin;

import org.jspecify.annotations.NullMarked;
