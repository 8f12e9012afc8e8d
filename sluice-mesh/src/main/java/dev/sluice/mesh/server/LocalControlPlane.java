package dev.sluice.mesh.server;

import dev.sluice.mesh.model.MeshResource;
import dev.sluice.mesh.model.MeshSources;
import dev.sluice.mesh.model.MeshTranslator;
import dev.sluice.mesh.model.ServiceRegistry;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The whole local control plane in this process: the {@link MeshControlPlane} over a registry,
 * its ADS server and its HTTP API. What {@code sluice mesh} and {@code sluice demo bookinfo} run.
 */
public final class LocalControlPlane implements AutoCloseable {
  private final MeshControlPlane controlPlane;
  private final AdsServer ads;
  private final MeshApiServer api;
  private @Nullable AdsServer adsSocket;

  private LocalControlPlane(MeshControlPlane controlPlane, AdsServer ads, MeshApiServer api) {
    this.controlPlane = controlPlane;
    this.ads = ads;
    this.api = api;
  }

  /**
   * Applies {@code initial} (all together; a validation error stops the start with the messages)
   * then serves ADS on {@code adsAddress} and the API on {@code apiAddress}.
   *
   * @throws InitialConfigException when {@code initial} does not validate
   */
  public static LocalControlPlane start(MeshTranslator translator, MeshSources sources, ServiceRegistry registry,
      List<MeshResource> initial, InetSocketAddress adsAddress, InetSocketAddress apiAddress) {
    MeshControlPlane cp = new MeshControlPlane(translator, registry);
    if (!initial.isEmpty()) {
      ChangeResult r = cp.apply(initial);
      if (!r.accepted()) {
        throw new InitialConfigException(r);
      }
    }
    AdsServer ads = AdsServer.start(cp, adsAddress);
    try {
      return new LocalControlPlane(cp, ads, MeshApiServer.start(cp, sources, apiAddress));
    } catch (RuntimeException e) {
      ads.close();
      throw e;
    }
  }

  public MeshControlPlane controlPlane() {
    return controlPlane;
  }

  public int adsPort() {
    return ads.port();
  }

  public int apiPort() {
    return api.port();
  }

  /**
   * Also serves ADS on the Unix domain socket {@code socket}, as pilot-agent serves its proxy's
   * {@code xds-grpc} pipe: what proxies in other network namespaces reach. Closed with this.
   */
  public synchronized void serveAdsOn(Path socket) {
    if (adsSocket != null) {
      throw new IllegalStateException("ADS is already served on a Unix domain socket");
    }
    adsSocket = AdsServer.startUds(controlPlane, socket);
  }

  @Override
  public synchronized void close() {
    api.close();
    ads.close();
    if (adsSocket != null) {
      adsSocket.close();
    }
  }

  /** The resources given at start did not validate; {@link #result()} holds the messages. */
  public static final class InitialConfigException extends RuntimeException {
    private final transient ChangeResult result;

    InitialConfigException(ChangeResult result) {
      super("the initial configuration has errors");
      this.result = result;
    }

    public ChangeResult result() {
      return result;
    }
  }
}
