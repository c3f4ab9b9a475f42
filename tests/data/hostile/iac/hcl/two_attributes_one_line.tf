resource "aws_iam_user" "a" {
  name = "a" path = "/"
}
