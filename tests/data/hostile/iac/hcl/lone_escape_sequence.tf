resource "aws_iam_user" "e" {
  name = "$${e"
}
