resource "aws_iam_user" "ok" {
  name = "ok"
}

resource "aws_iam_user_login_profile" "ok" {
  user = aws_iam_user.ok.name
}

resource "aws_iam_access_key" "ok" {
  user = aws_iam_user.ok.name
}
