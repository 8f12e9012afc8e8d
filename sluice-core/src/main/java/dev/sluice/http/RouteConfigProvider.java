package dev.sluice.http;

import dev.sluice.router.RouteTable;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * Where a connection manager gets its routes: a fixed inline {@code route_config}, or an RDS
 * subscription whose table changes at run time. Workers read {@link #current()} once per request
 * (one volatile read); a stream keeps the table it started with.
 */
public interface RouteConfigProvider {
  /** The current table, or null while an RDS subscription has not delivered its first version. */
  @Nullable RouteTable current();

  /** The route configuration name (RDS) or the inline config's name ({@code scoped_routes.name} when scoped). */
  String name();

  /**
   * For {@code scoped_routes}: the scopes in force now, from which each request's table is chosen
   * by its headers (a stream keeps the set it started with); null for a single table.
   */
  default @Nullable ScopedRouteTables scopes() {
    return null;
  }

  /**
   * VHDS on demand: asks the control plane for the virtual host of {@code host} in this route
   * configuration. {@code done} runs once on the control thread (true: it arrived and the table in
   * {@link #current()} has it). False, and nothing asked, when the table has no {@code vhds}.
   */
  default boolean requestVirtualHost(String host, Consumer<Boolean> done) {
    return false;
  }

  /** A provider over one fixed table. */
  static RouteConfigProvider of(RouteTable table, String name) {
    return new RouteConfigProvider() {
      @Override
      public RouteTable current() {
        return table;
      }

      @Override
      public String name() {
        return name;
      }
    };
  }
}
