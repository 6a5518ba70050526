#include "training_workspaces.hpp"

namespace edgefl::device {

namespace {

// Free workspaces kept at most: more are only built when more tasks trained at once than the
// pool has threads, which does not happen; a bound keeps a mistake from holding memory.
constexpr std::size_t kMaxFree = 64;

}  // namespace

std::unique_ptr<TrainingWorkspace> TrainingWorkspaces::take(const WorkspaceKey& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    if ((*it)->key == key) {
      std::unique_ptr<TrainingWorkspace> found = std::move(*it);
      free_.erase(it);
      return found;
    }
  }
  return nullptr;
}

void TrainingWorkspaces::give_back(std::unique_ptr<TrainingWorkspace> workspace) {
  if (!workspace) return;
  std::lock_guard<std::mutex> lock(mutex_);
  // The oldest goes first: a workspace for a model no task asks for any more is not kept.
  if (free_.size() >= kMaxFree) free_.erase(free_.begin());
  free_.push_back(std::move(workspace));
}

std::size_t TrainingWorkspaces::free_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return free_.size();
}

}  // namespace edgefl::device
