package dev.sluice.extensions.filters.passthrough;

import com.google.protobuf.Struct;
import dev.sluice.api.FactoryContext;
import dev.sluice.api.network.NetworkFilter;
import dev.sluice.api.network.NetworkFilterFactory;

/**
 * A network filter whose config type is Istio's, not in the Envoy API: its config arrives as the
 * {@link Struct} of its JSON payload (see {@code dev.sluice.config.ProtoTypes.opaquePayload}) and
 * the filter is a {@link PassThrough}. Subclasses name the type and check the fields they know.
 */
public abstract class OpaqueNetworkFilterFactory implements NetworkFilterFactory<Struct> {
  private final String name;
  private final String typeUrl;
  private final String missing;
  private final String owner;

  /**
   * @param missing the behaviour not implemented yet, for the log line
   * @param owner the work that owns that behaviour
   */
  protected OpaqueNetworkFilterFactory(String name, String typeUrl, String missing, String owner) {
    this.name = name;
    this.typeUrl = typeUrl;
    this.missing = missing;
    this.owner = owner;
  }

  @Override
  public final String name() {
    return name;
  }

  @Override
  public final String typeUrl() {
    return typeUrl;
  }

  @Override
  public final Class<Struct> configType() {
    return Struct.class;
  }

  @Override
  public final Struct defaultInstance() {
    return Struct.getDefaultInstance();
  }

  @Override
  public final NetworkFilter create(Struct config, FactoryContext context) {
    validate(config);
    PassThrough.announce(name, missing, owner);
    return PassThrough.NETWORK_FILTER;
  }

  /**
   * Checks the fields this Sluice knows of the config.
   *
   * @throws dev.sluice.api.config.ConfigException naming the offending field
   */
  protected void validate(Struct config) {}
}
