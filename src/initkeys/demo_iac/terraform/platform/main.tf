# The deliberate gap: a module from a git source is not downloaded or scanned, so
# initkeys says so (a WARNING, iac-not-scanned) instead of passing it in silence.
# Scan the plan (terraform show -json PLAN) for the complete answer.
module "platform_team" {
  source = "git::https://git.example.com/infra/iam-team.git?ref=v1.4.0"

  members = ["erin", "frank"]
}
