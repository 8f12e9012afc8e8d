/** The {@code MeshTranslator} that shapes xDS as istiod does: listeners, route configs, clusters, endpoints per proxy. */
@NullMarked
package dev.sluice.mesh.xds;

import org.jspecify.annotations.NullMarked;
