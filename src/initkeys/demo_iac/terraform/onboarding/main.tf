# New staff get a console user. Whoever wrote this also gave alice an access key
# "to get her started": applied, that is a setup key (CIS AWS 1.11).

resource "aws_iam_user" "alice" {
  name = "alice"
  path = "/staff/"
  tags = { team = "finance" }
}

resource "aws_iam_user_login_profile" "alice" {
  user                    = aws_iam_user.alice.name
  password_reset_required = true
}

resource "aws_iam_access_key" "alice" {
  user = aws_iam_user.alice.name
}

# bob signs in to the console only: no key, nothing to find.
resource "aws_iam_user" "bob" {
  name = "bob"
  path = "/staff/"
}

resource "aws_iam_user_login_profile" "bob" {
  user = aws_iam_user.bob.name
}

# The CI pipeline's user: an access key, no console password (programmatic).
resource "aws_iam_user" "ci_deploy" {
  name = "ci-deploy"
  path = "/system/"
}

resource "aws_iam_access_key" "ci_deploy" {
  user   = aws_iam_user.ci_deploy.name
  status = "Active"
}
