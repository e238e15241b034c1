// Checkpoint directories: commit, manifest, latest, pruning, and what survives failures —
// a failing writer, a corrupted file, and a full disk (RLIMIT_FSIZE in a forked child).
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/checkpoint/temp_dir.h"
#include "train/checkpoint/checkpoint_dir.h"
#include "core/file_io.h"
#include "train/checkpoint/json_file.h"
#include "train/checkpoint/safetensors.h"
#include "train/checkpoint/sha256.h"

using namespace mone;
using namespace mone::train;
using namespace mone::train::testing;

namespace {

// Writes what a trainer would: a model file whose values depend on the step, and a state file.
std::function<Status(const std::string&)> write_step_files(int64_t step, int64_t numel = 16) {
  return [step, numel](const std::string& dir) -> Status {
    std::vector<float> values(numel);
    for (int64_t i = 0; i < numel; ++i) values[i] = static_cast<float>(step * 1000 + i);
    MONE_ASSIGN_OR_RETURN(Tensor w, Tensor::from_vector(values, {numel}));
    MONE_RETURN_IF_ERROR(write_safetensors(join_path(dir, "model.safetensors"), {{"w", w}}));
    return write_json_file_atomic(join_path(dir, "trainer_state.json"), {{"step", step}});
  };
}

std::string commit_ok(const std::string& run_dir, int64_t step, int keep_last = 0) {
  StatusOr<std::string> dir = commit_checkpoint(run_dir, step, write_step_files(step), keep_last);
  REQUIRE_MESSAGE(dir.ok(), dir.status());
  return *dir;
}

std::vector<std::string> names_in(const std::string& dir) {
  return value_or_die(list_directory(dir));
}

std::string latest_of(const std::string& run_dir) { return read_bytes(run_dir + "/latest"); }

void flip_byte(const std::string& path, size_t at) {
  std::string bytes = read_bytes(path);
  bytes[at] = static_cast<char>(bytes[at] ^ 0x5a);
  write_bytes(path, bytes);
}

// Runs fn in a forked child whose files may not grow past limit_bytes (writes beyond fail with
// EFBIG since SIGXFSZ is ignored) and returns fn's error message ("OK" when it succeeded).
std::string run_with_file_size_limit(rlim_t limit_bytes, const std::function<Status()>& fn) {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit limit = {limit_bytes, limit_bytes};
    if (setrlimit(RLIMIT_FSIZE, &limit) != 0) _exit(2);
    Status s = fn();
    std::string message = s.ok() ? "OK" : std::string(s.message());
    ssize_t written = write(fds[1], message.data(), message.size());
    _exit(written == static_cast<ssize_t>(message.size()) ? 0 : 3);
  }
  close(fds[1]);
  std::string message;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof(buf))) > 0;) message.append(buf, n);
  close(fds[0]);
  int wstatus = 0;
  REQUIRE(waitpid(pid, &wstatus, 0) == pid);
  REQUIRE(WIFEXITED(wstatus));
  REQUIRE(WEXITSTATUS(wstatus) == 0);
  return message;
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("commit_checkpoint writes the directory, a manifest that matches, and latest") {
  TempDir tmp;
  const std::string run = tmp.file("run");  // created by the commit
  CHECK_FALSE(has_checkpoints(run));
  const std::string dir = commit_ok(run, 5);
  CHECK(dir == run + "/step_00000005");
  CHECK(names_in(run) == std::vector<std::string>{"latest", "step_00000005"});
  CHECK(latest_of(run) == "step_00000005\n");
  CHECK(names_in(dir) ==
        std::vector<std::string>{"manifest.json", "model.safetensors", "trainer_state.json"});

  nlohmann::json manifest = value_or_die(read_json_file(dir + "/manifest.json"));
  CHECK(manifest["format_version"] == kCheckpointFormatVersion);
  CHECK(manifest["step"] == 5);
  REQUIRE(manifest["files"].size() == 2);
  for (const nlohmann::json& f : manifest["files"]) {
    const std::string path = dir + "/" + f["name"].get<std::string>();
    CHECK(f["size"].get<uint64_t>() == read_bytes(path).size());
    CHECK(f["sha256"] == sha256_hex(read_bytes(path)));
  }
  CHECK(manifest["files"][0]["name"] == "model.safetensors");
  CHECK(verify_checkpoint(dir).ok());
  CHECK(value_or_die(read_safetensors(dir + "/model.safetensors")).tensors.at("w").to_vector<float>()[1] == 5001.0f);

  CHECK(checkpoint_dir_name(7) == "step_00000007");
  CHECK(checkpoint_step(dir) == 5);
  CHECK(checkpoint_step(dir + "/") == 5);
  CHECK_FALSE(checkpoint_step(run + "/step_12").has_value());
  CHECK_FALSE(checkpoint_step(run + "/.tmp-step_00000005").has_value());
  CHECK_FALSE(commit_checkpoint(run, -1, write_step_files(0), 0).ok());
}

TEST_CASE("keep_last prunes the oldest checkpoints; keep_last <= 0 keeps all") {
  TempDir tmp;
  for (int64_t step : {10, 20, 30, 40, 50}) commit_ok(tmp.path(), step, /*keep_last=*/2);
  CHECK(list_checkpoints(tmp.path()) ==
        std::vector<std::string>{tmp.file("step_00000040"), tmp.file("step_00000050")});
  CHECK(names_in(tmp.path()) ==
        std::vector<std::string>{"latest", "step_00000040", "step_00000050"});
  for (int64_t step : {60, 70}) commit_ok(tmp.path(), step, /*keep_last=*/0);
  CHECK(list_checkpoints(tmp.path()).size() == 4);
  // Sorted by step, not by name: step 100000000 has 9 digits.
  commit_ok(tmp.path(), 100'000'000, 0);
  CHECK(list_checkpoints(tmp.path()).back() == tmp.file("step_100000000"));
  CHECK(list_checkpoints(tmp.path()).front() == tmp.file("step_00000040"));
}

TEST_CASE("a failing write_files leaves no step directory and latest unchanged") {
  TempDir tmp;
  const std::string first = commit_ok(tmp.path(), 1);
  StatusOr<std::string> failed =
      commit_checkpoint(tmp.path(), 2, [](const std::string& dir) -> Status {
        write_bytes(dir + "/partial.bin", "half");
        return absl::InternalError("optimizer state exploded");
      }, /*keep_last=*/1);
  REQUIRE_FALSE(failed.ok());
  const std::string message(failed.status().message());
  CHECK(message.find("commit_checkpoint step 2 in " + tmp.path()) != std::string::npos);
  CHECK(message.find(".tmp-step_00000002") != std::string::npos);
  CHECK(message.find("optimizer state exploded") != std::string::npos);
  CHECK(failed.status().code() == absl::StatusCode::kInternal);
  CHECK(names_in(tmp.path()) == std::vector<std::string>{"latest", "step_00000001"});
  CHECK(latest_of(tmp.path()) == "step_00000001\n");
  CHECK(verify_checkpoint(first).ok());

  // Files a checkpoint may not hold: its own manifest, and subdirectories.
  StatusOr<std::string> manifest_clash = commit_checkpoint(tmp.path(), 3, [](const std::string& dir) {
    write_bytes(dir + "/manifest.json", "{}");
    return absl::OkStatus();
  }, 0);
  REQUIRE_FALSE(manifest_clash.ok());
  CHECK(manifest_clash.status().message().find("reserved for the checkpoint manifest") !=
        std::string::npos);
  StatusOr<std::string> subdir = commit_checkpoint(tmp.path(), 3, [](const std::string& dir) {
    return make_directories(dir + "/nested");
  }, 0);
  REQUIRE_FALSE(subdir.ok());
  CHECK(subdir.status().message().find("nested: a checkpoint may hold only regular files") !=
        std::string::npos);
  CHECK(names_in(tmp.path()) == std::vector<std::string>{"latest", "step_00000001"});
}

TEST_CASE("a corrupted file fails verify; find_resumable_checkpoint falls back to the previous one") {
  TempDir tmp;
  const std::string one = commit_ok(tmp.path(), 1);
  const std::string two = commit_ok(tmp.path(), 2);
  REQUIRE(value_or_die(find_resumable_checkpoint(tmp.path())) == two);

  flip_byte(two + "/model.safetensors", read_bytes(two + "/model.safetensors").size() - 3);
  Status v = verify_checkpoint(two);
  REQUIRE_FALSE(v.ok());
  CHECK(v.code() == absl::StatusCode::kDataLoss);
  CHECK(v.message().find(two + "/model.safetensors: sha256 ") != std::string::npos);
  CHECK(v.message().find("the file is corrupted") != std::string::npos);

  std::vector<std::string> warnings;
  StatusOr<std::string> resume = find_resumable_checkpoint(tmp.path(), &warnings);
  REQUIRE_MESSAGE(resume.ok(), resume.status());
  CHECK(*resume == one);
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("skipping checkpoint " + two) != std::string::npos);
  CHECK(warnings[0].find("model.safetensors") != std::string::npos);

  // Other damage: a truncated file, a missing file, a broken manifest; each named.
  write_bytes(one + "/trainer_state.json", "{}");
  CHECK(verify_checkpoint(one).message().find("trainer_state.json: 2 bytes, but manifest.json records") !=
        std::string::npos);
  std::filesystem::remove(one + "/trainer_state.json");
  CHECK(verify_checkpoint(one).message().find(
            one + "/trainer_state.json: listed in manifest.json but missing") != std::string::npos);
  write_bytes(one + "/manifest.json", "{\"files\": [");
  CHECK(verify_checkpoint(one).message().find(one + "/manifest.json: invalid JSON at byte") !=
        std::string::npos);
  std::filesystem::remove(one + "/manifest.json");
  CHECK(verify_checkpoint(one).message().find(one + "/manifest.json: file does not exist") !=
        std::string::npos);

  // Nothing verifies any more: a NotFound listing why each was skipped.
  StatusOr<std::string> none = find_resumable_checkpoint(tmp.path());
  REQUIRE_FALSE(none.ok());
  CHECK(none.status().code() == absl::StatusCode::kNotFound);
  CHECK(none.status().message().find("skipping checkpoint " + one) != std::string::npos);
}

TEST_CASE("find_resumable_checkpoint: by latest first, by step without it; none is NotFound") {
  TempDir tmp;
  StatusOr<std::string> empty = find_resumable_checkpoint(tmp.path());
  CHECK(empty.status().code() == absl::StatusCode::kNotFound);
  CHECK(empty.status().message().find("no checkpoints") != std::string::npos);

  commit_ok(tmp.path(), 1);
  commit_ok(tmp.path(), 2);
  const std::string three = commit_ok(tmp.path(), 3);
  // latest is the authority: pointing it back at step 2 resumes from step 2.
  write_bytes(tmp.file("latest"), "step_00000002\n");
  CHECK(value_or_die(find_resumable_checkpoint(tmp.path())) == tmp.file("step_00000002"));

  std::vector<std::string> warnings;
  std::filesystem::remove(tmp.file("latest"));
  CHECK(value_or_die(find_resumable_checkpoint(tmp.path(), &warnings)) == three);
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("latest: file does not exist; choosing by step") != std::string::npos);

  warnings.clear();
  write_bytes(tmp.file("latest"), "step_00000009\n");
  CHECK(value_or_die(find_resumable_checkpoint(tmp.path(), &warnings)) == three);
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("names \"step_00000009\", which is not a checkpoint directory") !=
        std::string::npos);
}

TEST_CASE("re-committing a step replaces it; crash debris is cleared by the next commit") {
  TempDir tmp;
  commit_ok(tmp.path(), 1);
  REQUIRE(make_directories(tmp.file(".tmp-step_00000007")).ok());
  write_bytes(tmp.file(".tmp-step_00000007/model.safetensors"), "half a file");
  write_bytes(tmp.file("latest.tmp"), "step_0000");
  CHECK(list_checkpoints(tmp.path()).size() == 1);  // hidden directories are not checkpoints

  StatusOr<std::string> again = commit_checkpoint(tmp.path(), 1, write_step_files(1, 4), 0);
  REQUIRE(again.ok());
  CHECK(names_in(tmp.path()) == std::vector<std::string>{"latest", "step_00000001"});
  CHECK(verify_checkpoint(*again).ok());
  CHECK(value_or_die(read_safetensors(*again + "/model.safetensors")).tensors.at("w").numel() == 4);
}

TEST_CASE("tidy_checkpoints finishes an interrupted commit: debris removed, pruned as a commit of the step would") {
  TempDir tmp;
  for (int64_t step : {1, 2, 3, 4}) commit_ok(tmp.path(), step, /*keep_last=*/0);  // as if killed before pruning
  REQUIRE(make_directories(tmp.file(".tmp-step_00000005")).ok());
  write_bytes(tmp.file("latest.tmp"), "step_0000");
  // Resuming from step 3 (say step 4 failed to verify): step 4 is newer and left alone.
  REQUIRE(tidy_checkpoints(tmp.path(), 3, 2).ok());
  CHECK(names_in(tmp.path()) == std::vector<std::string>{"latest", "step_00000002", "step_00000003", "step_00000004"});
  REQUIRE(tidy_checkpoints(tmp.path(), 4, 2).ok());
  CHECK(names_in(tmp.path()) == std::vector<std::string>{"latest", "step_00000003", "step_00000004"});
  REQUIRE(tidy_checkpoints(tmp.path(), 4, 0).ok());  // keep all: nothing more goes
  CHECK(list_checkpoints(tmp.path()).size() == 2);
  CHECK(verify_checkpoint(tmp.file("step_00000004")).ok());
}

TEST_CASE("a failure after the rename (latest cannot be written) rolls the commit back") {
  TempDir tmp;
  const std::string one = commit_ok(tmp.path(), 1);
  const std::string model_before = read_bytes(one + "/model.safetensors");
  // `latest` replaced by a non-empty directory: renaming latest.tmp over it fails.
  std::filesystem::remove(tmp.file("latest"));
  REQUIRE(make_directories(tmp.file("latest/blocker")).ok());

  StatusOr<std::string> two = commit_checkpoint(tmp.path(), 2, write_step_files(2), 0);
  REQUIRE_FALSE(two.ok());
  CHECK(two.status().message().find("rename " + tmp.file("latest.tmp")) != std::string::npos);
  CHECK(list_checkpoints(tmp.path()) == std::vector<std::string>{one});

  // Replacing step 1 itself: the old step 1 comes back unchanged.
  StatusOr<std::string> again = commit_checkpoint(tmp.path(), 1, write_step_files(1, 4), 0);
  REQUIRE_FALSE(again.ok());
  CHECK(names_in(tmp.path()) == std::vector<std::string>{"latest", "step_00000001"});
  CHECK(read_bytes(one + "/model.safetensors") == model_before);
  CHECK(verify_checkpoint(one).ok());
}

TEST_CASE("full disk: a failed commit reports EFBIG and the previous checkpoint stays intact") {
  TempDir tmp;
  const std::string one = commit_ok(tmp.path(), 1);
  const std::string manifest_before = read_bytes(one + "/manifest.json");

  // Step 2's model file needs 256 KiB; files may not grow past 64 KiB.
  const std::string message = run_with_file_size_limit(64 * 1024, [&] {
    return commit_checkpoint(tmp.path(), 2, write_step_files(2, 64 * 1024), 1).status();
  });
  CAPTURE(message);
  CHECK(message.find("commit_checkpoint step 2") != std::string::npos);
  CHECK(message.find(tmp.file(".tmp-step_00000002/model.safetensors.tmp")) != std::string::npos);
  CHECK(message.find("File too large") != std::string::npos);

  CHECK(names_in(tmp.path()) == std::vector<std::string>{"latest", "step_00000001"});
  CHECK(latest_of(tmp.path()) == "step_00000001\n");
  CHECK(read_bytes(one + "/manifest.json") == manifest_before);
  CHECK(verify_checkpoint(one).ok());
  CHECK(value_or_die(find_resumable_checkpoint(tmp.path())) == one);

  // The same for a small JSON file replaced in place: the old contents survive.
  const std::string state = tmp.file("state.json");
  REQUIRE(write_json_file_atomic(state, {{"old", true}}).ok());
  const std::string json_message = run_with_file_size_limit(8, [&] {
    return write_json_file_atomic(state, {{"new", std::string(100, 'x')}});
  });
  CHECK(json_message.find("state.json.tmp") != std::string::npos);
  CHECK(json_message.find("File too large") != std::string::npos);
  CHECK(value_or_die(read_json_file(state)) == nlohmann::json{{"old", true}});
  CHECK_FALSE(exists(state + ".tmp"));
}

}  // TEST_SUITE
