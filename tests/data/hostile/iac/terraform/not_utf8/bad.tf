resource "aws_iam_user" "x" {
  name = "café"
}
