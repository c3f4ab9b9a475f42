# The password is for alice, the key for the deploy user: no setup key.
resource "aws_iam_user" "alice" {
  name = "alice"
}

resource "aws_iam_user" "deploy" {
  name = "deploy"
}

resource "aws_iam_user_login_profile" "alice" {
  user = aws_iam_user.alice.name
}

resource "aws_iam_access_key" "deploy" {
  user = aws_iam_user.deploy.name
}
