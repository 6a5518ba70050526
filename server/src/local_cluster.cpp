#include "local_cluster.hpp"

namespace edgefl::server {

struct LocalCluster::Running {
  std::unique_ptr<device::DeviceAgent> agent;
  std::atomic<bool> done{false};
  Status status;
  std::thread thread;
};

Result<std::unique_ptr<LocalCluster>> LocalCluster::start(double time_scale) {
  std::unique_ptr<LocalCluster> cluster(new LocalCluster());
  Result<std::unique_ptr<NetContext>> context = NetContext::create();
  if (!context) return context.status();
  cluster->context_ = std::move(*context);
  cluster->policy_.time_scale = time_scale;
  Result<std::unique_ptr<ServerTransport>> transport =
      ServerTransport::bind(*cluster->context_, "tcp://127.0.0.1:*", cluster->policy_, ServerSecurity{});
  if (!transport) return transport.status();
  cluster->transport_ = std::move(*transport);
  return cluster;
}

LocalCluster::~LocalCluster() { (void)join_devices(std::chrono::steady_clock::now()); }

Status LocalCluster::add_device(device::DeviceConfig config, device::LogSink log) {
  config.endpoint = endpoint();
  Result<std::unique_ptr<device::DeviceAgent>> agent =
      device::DeviceAgent::create(config, posix_file_system(), std::move(log));
  if (!agent) return agent.status();
  auto running = std::make_unique<Running>();
  running->agent = std::move(*agent);
  Running* r = running.get();
  SocketPolicy policy = policy_;
  policy.time_scale = config.time_scale;
  running->thread = std::thread([this, r, policy, endpoint = config.endpoint] {
    device::ChannelFactory connect = [this, policy, endpoint]() -> Result<std::unique_ptr<DeviceChannel>> {
      Result<std::unique_ptr<DeviceTransport>> link =
          DeviceTransport::connect(*context_, endpoint, policy, DeviceSecurity{});
      if (!link) return link.status();
      return std::unique_ptr<DeviceChannel>(std::move(*link));
    };
    r->status = r->agent->run(connect, stop_);
    r->done.store(true);
  });
  devices_.push_back(std::move(running));
  return Status();
}

std::vector<DeviceOutcome> LocalCluster::join_devices(std::chrono::steady_clock::time_point deadline,
                                                      Coordinator* coordinator) {
  auto all_done = [this] {
    for (const auto& d : devices_) {
      if (!d->done.load()) return false;
    }
    return true;
  };
  while (!all_done() && std::chrono::steady_clock::now() < deadline) {
    if (coordinator != nullptr) {
      (void)coordinator->poll(*transport_, std::chrono::milliseconds(20));
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  stop_.store(true);
  std::vector<DeviceOutcome> outcomes;
  for (auto& d : devices_) {
    if (d->thread.joinable()) d->thread.join();
    outcomes.push_back(DeviceOutcome{d->agent->device_id(), d->status, d->agent->stats()});
  }
  devices_.clear();
  stop_.store(false);
  return outcomes;
}

}  // namespace edgefl::server
