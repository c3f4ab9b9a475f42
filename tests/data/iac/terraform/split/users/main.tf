resource "aws_iam_user" "erin" {
  name = "erin"
}

resource "aws_iam_user_login_profile" "erin" {
  user = aws_iam_user.erin.name
}
