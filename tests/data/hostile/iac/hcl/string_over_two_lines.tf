resource "aws_iam_user" "b" {
  name = "b
c"
}
