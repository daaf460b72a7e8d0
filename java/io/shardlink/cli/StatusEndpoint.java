package io.shardlink.cli;

import com.sun.net.httpserver.HttpServer;
import io.shardlink.api.ShardlinkNode;
import io.shardlink.config.ShardlinkConfig;
import io.shardlink.rdma.RdmaAvailability;
import io.shardlink.rdma.RdmaDevice;
import io.shardlink.rdma.path.ZeroCopyStats;
import io.shardlink.status.NodeInfo;
import io.shardlink.status.StatusHistory;
import io.shardlink.status.StatusHttp;
import io.shardlink.status.StatusJson;

/** serve's status page: {@code GET /} and {@code GET /status.json} (see {@link StatusHttp}). */
final class StatusEndpoint {
    /** One sample a second, five minutes kept. */
    static final long INTERVAL_MILLIS = 1000;
    static final int SAMPLES = 300;

    private StatusEndpoint() {}

    /** Installs the page on {@code http} and starts sampling; close the result when the node stops. */
    static StatusHistory install(HttpServer http, ShardlinkNode n) {
        NodeInfo info = nodeInfo(n);
        StatusHistory history = StatusHistory.start(n::metrics, INTERVAL_MILLIS, SAMPLES);
        try {
            StatusHttp.install(http, () -> StatusJson.render(info, n.metrics(), ZeroCopyStats.of(n), n.peers(), n.copiesInFlight(),
                    history.samples(), INTERVAL_MILLIS));
        } catch (RuntimeException e) {
            history.close();
            throw e;
        }
        return history;
    }

    static NodeInfo nodeInfo(ShardlinkNode n) {
        ShardlinkConfig c = n.config();
        String why = RdmaStatus.whyNot(n, null);
        String device = c.device();
        RdmaAvailability a = RdmaStatus.hostAvailability(c.device(), c.port());
        if (a != null && a.device() != null) {
            device = a.device();
        }
        String gid = null;
        if (why == null) {
            try (RdmaDevice d = RdmaDevice.open(device, c.port())) {
                gid = ProbeCommand.gidString(d.gid(c.gidIndex()));
            } catch (Exception | LinkageError e) {
                gid = null; // shown as "none"; the reason above says why RDMA is (not) usable
            }
        }
        return new NodeInfo(n.nodeId(), Units.hostPort(n.localAddress()), NodeOptions.modeName(c.transportMode()),
                why == null, why, device, c.port(), c.gidIndex(), gid);
    }
}
