/** End-to-end tests of routing, load balancing, access logs and stats through a full server. */
@NullMarked
package dev.sluice.it.routing;

import org.jspecify.annotations.NullMarked;
