// Which devices a process of a multi-process simulation runs: from flags, OpenMPI's or
// Slurm's variables, or all of them.
#include <doctest/doctest.h>

#include <map>
#include <string>

#include "rank_slice.hpp"

using namespace edgefl;

namespace {
sim::EnvLookup env_of(std::map<std::string, std::string> values) {
  return [values](const char* name) -> std::optional<std::string> {
    auto it = values.find(name);
    return it == values.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}
}  // namespace

TEST_CASE("rank slice: the slices of all ranks cover every device once, sizes within one") {
  for (uint32_t ranks : {1u, 2u, 3u, 7u}) {
    uint32_t next = 0;
    for (uint32_t rank = 0; rank < ranks; ++rank) {
      auto slice = sim::resolve_rank_slice(rank, ranks, 1000, env_of({}));
      REQUIRE(slice.ok());
      CHECK(slice->first == next);
      CHECK(slice->end - slice->first >= 1000 / ranks);
      CHECK(slice->end - slice->first <= 1000 / ranks + 1);
      next = slice->end;
    }
    CHECK(next == 1000);
  }
}

TEST_CASE("rank slice: OpenMPI's variables, then Slurm's, then one process, and flags over both") {
  auto none = sim::resolve_rank_slice(0, 0, 10, env_of({}));
  REQUIRE(none.ok());
  CHECK((none->first == 0 && none->end == 10 && none->ranks == 1));
  CHECK(none->source == "single process");

  auto mpi = sim::resolve_rank_slice(0, 0, 10,
                                     env_of({{"OMPI_COMM_WORLD_RANK", "1"},
                                             {"OMPI_COMM_WORLD_SIZE", "2"},
                                             {"SLURM_PROCID", "0"},
                                             {"SLURM_NTASKS", "5"}}));
  REQUIRE(mpi.ok());
  CHECK((mpi->rank == 1 && mpi->ranks == 2 && mpi->first == 5 && mpi->end == 10));
  CHECK(mpi->source == "OpenMPI");

  auto slurm =
      sim::resolve_rank_slice(0, 0, 10, env_of({{"SLURM_PROCID", "4"}, {"SLURM_NTASKS", "5"}}));
  REQUIRE(slurm.ok());
  CHECK((slurm->first == 8 && slurm->end == 10 && slurm->source == "Slurm"));

  auto flags =
      sim::resolve_rank_slice(0, 2, 10, env_of({{"SLURM_PROCID", "4"}, {"SLURM_NTASKS", "5"}}));
  REQUIRE(flags.ok());
  CHECK((flags->first == 0 && flags->end == 5 && flags->source == "flags"));
}

TEST_CASE("rank slice: impossible ranks are named, not guessed") {
  auto past = sim::resolve_rank_slice(2, 2, 10, env_of({}));
  CHECK(past.status().code() == StatusCode::invalid_argument);
  CHECK(past.status().message().find("rank 2 of 2 (flags)") != std::string::npos);
  CHECK(sim::resolve_rank_slice(1, 0, 10, env_of({}))
            .status()
            .message()
            .find("--rank needs --ranks") != std::string::npos);
  auto text =
      sim::resolve_rank_slice(0, 0, 10, env_of({{"SLURM_PROCID", "x"}, {"SLURM_NTASKS", "2"}}));
  CHECK(text.status().message().find("SLURM_PROCID='x' is not a whole number") !=
        std::string::npos);
  auto half = sim::resolve_rank_slice(0, 0, 10, env_of({{"OMPI_COMM_WORLD_RANK", "0"}}));
  CHECK(half.status().message().find("must be set together") != std::string::npos);
  auto crowded = sim::resolve_rank_slice(0, 4, 3, env_of({}));
  CHECK(crowded.status().message().find("every rank needs a device") != std::string::npos);
}
